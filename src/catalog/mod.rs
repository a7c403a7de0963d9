//! Events and the JSON-lines event catalog.
