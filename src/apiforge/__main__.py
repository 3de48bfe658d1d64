from apiforge.cli import main

main()
