"""Domain rules in plain modules: nothing here touches `flask.request`."""
