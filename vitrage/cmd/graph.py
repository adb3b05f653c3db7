"""vitrage-graph: the entity graph, processor and timers."""
import cotyledon

from vitrage.cmd import console_script
from vitrage.graph.leadership import StallWatchdog
from vitrage.graph.service import GraphWorker
from vitrage import service
from vitrage.storage import services


@console_script
def main() -> None:
    conf = service.prepare_service()
    manager = cotyledon.ServiceManager()
    # Made before the fork: the master watches its worker through it.
    watchdog = StallWatchdog(conf.entity_graph.stall_timeout)
    manager.add(GraphWorker, workers=1, args=(conf, watchdog))
    watchdog.watch()
    services.register_workers(manager, conf)
    manager.run()
