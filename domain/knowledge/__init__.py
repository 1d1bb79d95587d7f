"""The knowledge base: documents read into sections, and search over them."""
