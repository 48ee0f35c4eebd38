"""Order pages: to-do, list, detail with actions, manual issue. (Being built for #4.)"""

urlpatterns: list = []
