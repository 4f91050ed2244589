"""Assets: versioned, deduplicated images and files (generated art, maps, uploads) kept in a
content-addressed blob store, with metadata, campaign visibility, variants and quotas."""
