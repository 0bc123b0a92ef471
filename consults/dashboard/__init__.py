"""The programme dashboard: monthly figures per station and per hospital (docs/dashboard.md)."""
