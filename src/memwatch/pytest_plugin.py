"""The pytest plugin (thin shell over the library). Registered as the ``memwatch`` pytest11 entry point."""
