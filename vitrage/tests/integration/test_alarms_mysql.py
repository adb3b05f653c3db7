"""The alarm queries (list, history, count, RCA) on a real MariaDB server.

The SQLite unit tests of :mod:`vitrage.tests.unit.storage.test_alarms`,
run again on a new MariaDB database: the same answers, sort order and
paging included, on both backends.
"""

from vitrage.tests.unit.storage.test_alarms import store  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_bad_page_arguments  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_count_has_all_five_keys  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_filters_are_substrings_and_lists_are_alternatives  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_history_windows  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_marker_of_an_alarm_that_ended_still_positions  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_paging_forward_and_back  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_paging_in_memory_matches_the_database  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_rca_does_not_cross_invisible_alarms  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_rca_follows_causes_upstream_and_effects_downstream  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_rca_leaves_out_an_alarm_that_only_shares_an_effect  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_sorting  # noqa: F401
from vitrage.tests.unit.storage.test_alarms import \
    test_tenancy  # noqa: F401
