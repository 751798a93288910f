from quanzi.circles.health import circles_health_compute_all
from quanzi.core.jobs import sweep


@sweep("circles.health", every=24 * 3600)
def health() -> int:
    """Circle health figures, once a day."""
    return circles_health_compute_all()
