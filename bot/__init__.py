"""The A-11 feedback bot: survey flows, engine and service core."""
