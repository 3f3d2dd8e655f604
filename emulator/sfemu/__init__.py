"""sfemu: a small compatibility layer that runs fakesnow's server as a local Snowflake emulator.

Every place where it papers over a difference from Snowflake is listed in emulator/README.md.
"""
