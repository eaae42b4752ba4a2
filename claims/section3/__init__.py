"""Claims of course section 3."""
