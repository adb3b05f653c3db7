"""vitrage-graph: the entity graph, processor and timers."""
import cotyledon

from vitrage.cmd import console_script
from vitrage.graph.service import GraphWorker
from vitrage import service
from vitrage.storage import services


@console_script
def main() -> None:
    conf = service.prepare_service()
    manager = cotyledon.ServiceManager()
    manager.add(GraphWorker, workers=1, args=(conf,))
    services.register_workers(manager, conf)
    manager.run()
