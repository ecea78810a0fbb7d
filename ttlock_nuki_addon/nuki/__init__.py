"""Nuki Smart Lock and Opener: pure protocol modules and the driver."""
