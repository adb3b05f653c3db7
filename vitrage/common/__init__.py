"""Constants, errors and small helpers shared by every package."""
