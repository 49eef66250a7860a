"""The pool simulator: a site's traffic and calls driven through the real pool and attribution
code on a simulated clock, the bounds and policies it is compared with, and the planner."""
