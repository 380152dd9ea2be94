// An ordinary shared object: no fizzhost_plugin_entry.
extern "C" int not_a_fizzhost_plugin(void) { return 42; }
