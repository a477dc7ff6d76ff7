"""Adapters to outside systems: channels and measures sinks."""
