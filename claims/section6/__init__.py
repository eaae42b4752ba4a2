"""Claims of course section 6."""
