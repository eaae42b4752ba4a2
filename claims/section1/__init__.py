"""Claims of course section 1."""
