"""The shared geography: provinces, districts and communes."""
