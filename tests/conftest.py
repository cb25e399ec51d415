import os
import sys

# tests/common.py is imported as `common` by the codec tests.
sys.path.insert(0, os.path.dirname(__file__))
