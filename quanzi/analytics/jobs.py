from quanzi.analytics.facts import facts_refresh
from quanzi.core.jobs import sweep


@sweep("analytics.facts", every=600)
def facts() -> int:
    return facts_refresh()
