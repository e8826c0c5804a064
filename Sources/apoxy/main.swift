import ApoxyServer
import ArgumentParser
print("hi")
