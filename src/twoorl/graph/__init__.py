"""The social graph: follow and unfollow, followers and following."""
