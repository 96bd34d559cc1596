// texthash placeholder
