class TrainError(Exception):
    """A user error (bad option, missing or unreadable file); the message
    says what to do, tools/train prints it without a traceback."""
