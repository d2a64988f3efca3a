"""Flow control: limits decided at run creation, queue admission, debounce/batch buffers."""
