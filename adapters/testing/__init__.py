"""Loopback fakes of the outside services, for the tests, the demo and local trials."""
