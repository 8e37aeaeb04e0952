def pytest_configure(config):
    config.addinivalue_line("markers", "accuracy: top-1 accuracy on a labelled data set (suites/accuracy)")
    config.addinivalue_line("markers", "high_accuracy: held to 99.9% of the source's accuracy")
