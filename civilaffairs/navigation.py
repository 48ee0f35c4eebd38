def menu_for(user, path): return []
