from tokenusage.cli import main

main()
