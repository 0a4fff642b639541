"""fedcrate demo Flower app: FedAvg of a softmax regression on digits."""
