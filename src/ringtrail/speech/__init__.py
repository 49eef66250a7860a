"""Speech to text on call recordings: engines behind one interface (faster-whisper by default)."""
