"""See how it computes (issue 14): convolution arithmetic, conv as a matrix, pooling, memory layout and
Tools › Make fully convolutional. ``plugin.install(window)`` adds them to the main window; every panel is a
self-contained widget taking its model in ``__init__`` (``model.ArithmeticModel``,
``pooling_view.FeatureMapSource``, a ``FullyConvGrid``)."""
