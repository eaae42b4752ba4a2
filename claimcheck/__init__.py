"""claimcheck: empirical claims as pytest tests (sequential seeds, controls, statistics, store, report)."""
