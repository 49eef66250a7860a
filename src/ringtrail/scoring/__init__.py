"""The target-call classifier: features, training, calibrated scores, honest evaluation."""
