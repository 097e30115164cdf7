"""The side panels: an entry's details and the vendor's action reference."""
