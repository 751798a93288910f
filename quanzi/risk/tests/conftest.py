# The rewards app's fixtures (a campaign, an invited friend's first order) for the reviews.
from quanzi.rewards.tests.conftest import (  # noqa: F401
    bring,
    complete_order,
    own_address,
    register,
    reward_campaign,
)
