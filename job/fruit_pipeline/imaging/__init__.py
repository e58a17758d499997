"""Pure image code (decode, ORB, colour, visual words, synthetic sample); imports no Spark."""
