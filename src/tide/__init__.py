"""tide: continuous training for machine learning.

Nothing is imported here so that ``tide --version`` stays fast.
"""

__version__ = "0.1.0"
