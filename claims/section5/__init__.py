"""Claims of course section 5."""
