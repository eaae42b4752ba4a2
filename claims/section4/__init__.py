"""Claims of course section 4."""
