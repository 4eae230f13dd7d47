from vnuma.cli import run

run()
