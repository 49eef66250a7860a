"""The pure domain core: business rules with no I/O (no database, network, clock or settings)."""
