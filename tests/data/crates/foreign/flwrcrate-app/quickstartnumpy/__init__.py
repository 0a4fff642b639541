"""quickstartnumpy: a NumPy / Flower app, integrated with flwrCrate."""
