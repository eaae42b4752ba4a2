"""Claims of course section 7."""
