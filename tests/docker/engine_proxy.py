"""A unix-socket relay to the Docker engine that a test can cut, to see what a run does when
its engine goes away (without stopping the engine the other tests share)."""

import os
import socket
import threading


class EngineProxy:
    def __init__(self, path, target="/var/run/docker.sock"):
        self.path = str(path)
        self.target = target
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(16)
        self.connections = []
        self.lock = threading.Lock()
        self.gone = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def docker_host(self):
        return f"unix://{self.path}"

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            with self.lock:
                if self.gone:  # accepted just before the cut: it must not outlive it
                    client.close()
                    upstream.close()
                    return
                self.connections += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        """The engine 'goes away': no new connections, and every open one is closed."""
        self.listener.close()
        with self.lock:
            self.gone = True
            for sock in self.connections:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
        if os.path.exists(self.path):
            os.unlink(self.path)
