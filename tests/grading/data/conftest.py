"""The example answer files here are test data, graded explicitly by the tests of
``grading/submission.py`` and the pytest plugin; they are not collected as test items when the
``genverify`` pytest plugin is installed (one of them is wrong on purpose)."""

collect_ignore_glob = ["answers*.toml"]
