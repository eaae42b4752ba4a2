"""Claims of course section 2."""
