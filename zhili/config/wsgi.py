import os

from django.core.wsgi import get_wsgi_application

from zhili.config.heap import settle_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhili.config.settings")
application = get_wsgi_application()
settle_heap()  # in each worker, after loading: see zhili/config/heap.py
