"""vitrage-collector: datasource drivers answering get_all/get_changes."""
import cotyledon

from vitrage.cmd import console_script
from vitrage.collector.service import CollectorService
from vitrage import service
from vitrage.storage import services


@console_script
def main() -> None:
    conf = service.prepare_service()
    manager = cotyledon.ServiceManager()
    manager.add(CollectorService, workers=conf.collector.workers,
                args=(conf,))
    services.register_workers(manager, conf)
    manager.run()
